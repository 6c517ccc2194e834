"""Communities: creation and registration, discovery, memberships, approvals, invitations, statistics."""
