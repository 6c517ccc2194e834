"""Data owners' nodes: registering them (a deployed one admitted at the SuperLink), a simulated node's
uploaded rows and their fingerprint, the nodes that serve a problem, and a node's view of its rounds."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aicommons.core.blobs import BlobStore
from aicommons.core.db import utcnow
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.datasets import permissions as dataset_permissions
from aicommons.datasets import service as datasets
from aicommons.datasets.models import Dataset, DatasetVersion, Policy
from aicommons.datasets.service import Upload
from aicommons.federation import node_rows
from aicommons.federation.models import Node, RunNode, TrainingRound, TrainingRun
from aicommons.federation.plans import NodeData, NodePolicy
from aicommons.federation.schemas import NodeCreate
from aicommons.ledger import service as ledger
from aicommons.members.models import Member
from aicommons.problems.models import Problem

NODE_ROWS_LOCK = 7_315_001  # the PostgreSQL advisory lock that puts node uploads in turn


@dataclass(frozen=True)
class SuperLink:
    """The commons' SuperLink where it authenticates SuperNodes (with TLS): its address and CA certificate."""

    address: str
    certificates: Path


def register_node(
    *,
    session: Session,
    actor: Member,
    form: NodeCreate,
    superlink: SuperLink | None = None,
) -> Node:
    """A node for the latest version of a federated dataset, run by one of its owners (for a community's
    dataset, each steward or organizer may run one). A simulated node trains once its owner has uploaded
    its rows (`store_rows`); a deployed node states its row count. The node's rewards go to whoever runs
    it."""
    dataset = datasets.get(session=session, ref=form.dataset)
    if not dataset_permissions.is_owner(session, dataset, actor):
        raise CommonsError(ErrorCode.FORBIDDEN, "only the dataset's owners run its nodes")
    if dataset.policy != Policy.FEDERATED:
        raise CommonsError(ErrorCode.WRONG_POLICY, "nodes serve federated datasets only")
    version = _latest_version(session, dataset)
    again = _same_node(session, dataset, actor, form)
    if again is not None:
        return again
    _refuse_taken_name(session, dataset, form.name)
    node = Node(
        name=form.name,
        dataset_id=dataset.id,
        version_id=version.id,
        owner_member_id=actor.id,  # who runs the node: one of the dataset's owners
        owner_community_id=None,
        public_key=form.public_key,
        rows=int(form.rows or 0),
        **form.model_dump(include={"accepted_problems", "max_rounds", "max_local_epochs"}),
        **form.model_dump(include={"require_privacy", "max_epsilon"}),
    )
    session.add(node)
    session.flush()
    if superlink is not None and node.public_key is not None:
        _admit(superlink, node)
    facts = {"node": node.id, "dataset": dataset.id, "version": version.id, "rows": node.rows}
    ledger.record(
        session, "federation:node:register", actor_id=actor.id, subject={"node": node.id}, data=facts
    )
    return node


def register_with_rows(
    *, session: Session, store: BlobStore, actor: Member, form: NodeCreate, upload: Upload
) -> Node:
    """A simulated node and its uploaded rows at once (the page's form)."""
    node = register_node(session=session, actor=actor, form=form)
    return store_rows(session=session, store=store, actor=actor, node=node, upload=upload)


def node_datasets(*, session: Session, member: Member) -> list[Dataset]:
    """The federated datasets with a published schema whose nodes the member may run: their own, and their
    communities' where they are a steward or organizer."""
    published = select(Dataset).where(Dataset.policy == Policy.FEDERATED, Dataset.version_count > 0)
    found = session.scalars(published.order_by(Dataset.title))
    return [dataset for dataset in found if dataset_permissions.is_owner(session, dataset, member)]


def get_node(*, session: Session, node_id: int) -> Node:
    found = session.get(Node, node_id)
    if found is None:
        raise CommonsError(ErrorCode.NODE_NOT_FOUND, f"no node {node_id}")
    return found


def store_rows(*, session: Session, store: BlobStore, actor: Member, node: Node, upload: Upload) -> Node:
    """A simulated node's rows, uploaded by whoever runs it: checked against the published schema, kept in
    the blob store, and refused when they are (mostly) rows that already back another node."""
    if node.owner_member_id != actor.id:
        raise CommonsError(ErrorCode.FORBIDDEN, "only the member who runs a node uploads its rows")
    if not node.simulated:
        raise CommonsError(ErrorCode.NOT_FEDERABLE, "a deployed node keeps its rows on its own machine")
    version = session.get(DatasetVersion, node.version_id)
    assert version is not None
    kept = node_rows.keep(store, upload, [column["name"] for column in version.columns])
    try:
        _refuse_borrowed(session, store, node, kept)
        node.data_blob, node.row_hashes_blob = kept.data_blob, kept.hashes_blob
        node.rows_fingerprint, node.rows = kept.fingerprint, kept.rows
        session.flush()
    except BaseException:
        for blob in kept.new_blobs:  # nothing of this transaction will be kept: neither shall its files
            store.remove(blob)
        raise
    facts = {"node": node.id, "rows": kept.rows, "fingerprint": kept.fingerprint}
    ledger.record(session, "federation:node:rows", actor_id=actor.id, subject={"node": node.id}, data=facts)
    return node


def _refuse_borrowed(session: Session, store: BlobStore, node: Node, kept: node_rows.StoredRows) -> None:
    """Refuse rows that another node already trains on: one data set earns its rewards once."""
    if session.get_bind().dialect.name == "postgresql":  # uploads are checked one at a time (SQLite: always)
        session.execute(select(func.pg_advisory_xact_lock(NODE_ROWS_LOCK)))
    others = select(Node.row_hashes_blob).where(Node.id != node.id)
    for blob in filter(None, session.scalars(others)):
        share = node_rows.shared(kept.hashes, node_rows.load_hashes(store, blob))
        if share > node_rows.SHARED_LIMIT:
            raise CommonsError(
                ErrorCode.NODE_ROWS_TAKEN, f"{share:.0%} of these rows already back another node"
            )


def _admit(superlink: SuperLink, node: Node) -> None:
    """Register a deployed node's key with the SuperLink, so that its SuperNode may connect; refused, the
    node is not registered at the commons either."""
    from aicommons.federation import deployment  # Flower takes seconds to import: only when needed

    try:
        deployment.admit(
            superlink=superlink.address,
            certificates=superlink.certificates.read_bytes(),
            public_key=node.public_key or "",
            name=node.name,
        )
    except (OSError, ValueError, RuntimeError) as error:
        raise CommonsError(
            ErrorCode.SUPERLINK_REFUSED, f"the SuperLink did not admit the node: {error}"
        ) from None


def _same_node(session: Session, dataset: Dataset, actor: Member, form: NodeCreate) -> Node | None:
    """The deployed node a restarted `aicommons node start` registers again (same name, owner and key)."""
    found = session.scalar(select(Node).where(Node.dataset_id == dataset.id, Node.name == form.name))
    if found is None or form.public_key is None:
        return None
    if found.public_key != form.public_key or found.owner_member_id != actor.id:
        return None
    found.rows, found.last_seen_at = int(form.rows or found.rows), utcnow()
    return found


def _latest_version(session: Session, dataset: Dataset) -> DatasetVersion:
    version = session.scalar(
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset.id, DatasetVersion.withdrawn_at.is_(None))
        .order_by(DatasetVersion.number.desc())
        .limit(1)
    )
    if version is None:
        raise CommonsError(ErrorCode.VERSION_NOT_FOUND, f"{dataset.slug} has no published schema yet")
    return version


def _refuse_taken_name(session: Session, dataset: Dataset, name: str) -> None:
    taken = session.scalar(select(Node.id).where(Node.dataset_id == dataset.id, Node.name == name))
    if taken is not None:
        raise CommonsError(ErrorCode.NODE_EXISTS, f"{dataset.slug} already has a node named {name}")


def nodes_for(session: Session, problem: Problem) -> list[Node]:
    """The nodes that can train for the problem: those of the federated datasets it names."""
    datasets_named = select(DatasetVersion.dataset_id).where(DatasetVersion.id.in_(problem.dataset_versions))
    query = select(Node).where(Node.dataset_id.in_(datasets_named)).order_by(Node.id)
    return list(session.scalars(query))


def policy(node: Node) -> NodePolicy:
    return NodePolicy(
        accepted_problems=tuple(node.accepted_problems),
        max_rounds=node.max_rounds,
        max_local_epochs=node.max_local_epochs,
        require_privacy=node.require_privacy,
        max_epsilon=node.max_epsilon,
    )


def node_data(store: BlobStore, run: TrainingRun, nodes: Sequence[Node]) -> list[NodeData]:
    """The run's simulated nodes as the simulation engine starts them, each on its uploaded rows (none for
    a deployed run)."""
    chosen = [node for node in nodes if node.id in set(run.node_ids)]
    return [
        NodeData(node.id, str(store.path(node.data_blob)), policy(node))
        for node in chosen
        if node.data_blob is not None
    ]


def nodes_of(*, session: Session, member: Member) -> list[Node]:
    """The nodes a member runs."""
    return list(session.scalars(select(Node).where(Node.owner_member_id == member.id).order_by(Node.id)))


def rounds_of(*, session: Session, nodes: Sequence[Node], limit: int = 100) -> list[dict[str, Any]]:
    """The latest rounds these nodes took part in, each with the node's part (value, reward, and why its
    update was left out): how a node's owner sees that their update was counted, or flagged."""
    names = {node.id: node.name for node in nodes}
    joined = select(TrainingRound).join(RunNode, RunNode.run_id == TrainingRound.run_id)
    query = joined.where(RunNode.node_id.in_(list(names))).order_by(TrainingRound.created_at.desc())
    found = []
    for row in session.scalars(query.limit(limit)).unique():
        for part in row.participants:
            if part["node"] in names:
                found.append({"run": row.run_id, "round": row.number, "node": names[part["node"]], **part})
    return found
