"""`aicommons members …`: manage accounts directly in the commons' database (operators' commands)."""

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy import select

from aicommons.cli.common import (
    EXIT_USAGE,
    FormatOption,
    OutputFormat,
    command_session,
    emit,
    errors,
    load_settings,
)
from aicommons.members import service
from aicommons.members.models import GlobalRole, Member
from aicommons.members.schemas import MeRead, SignUp

app = typer.Typer(
    pretty_exceptions_show_locals=False,
    help="Create members and set their global roles (on this machine's database).",
    no_args_is_help=True,
)


@app.command()
def create(
    handle: str,
    email: Annotated[str, typer.Option(prompt=True)],
    display_name: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    role: Annotated[GlobalRole, typer.Option(help="admin, moderator or member")] = GlobalRole.MEMBER,
) -> None:
    """Create a member, for example the first admin of a new commons."""
    try:
        form = SignUp(handle=handle, email=email, display_name=display_name, password=password)
    except ValidationError as error:
        errors.print(f"[red]validation_failed:[/red] {error}")
        raise typer.Exit(EXIT_USAGE) from error
    with command_session(load_settings()) as session:
        member = service.sign_up(session=session, form=form, role=role)
        emit(None, OutputFormat.TEXT, f"Created {member.handle} ({member.role}).")


@app.command("set-role")
def set_role(handle: str, role: GlobalRole) -> None:
    """Give a member a global role: admin, moderator or member."""
    with command_session(load_settings()) as session:
        member = service.set_role(
            session=session, actor=None, member=service.get(session=session, handle=handle), role=role
        )
        emit(None, OutputFormat.TEXT, f"{member.handle} is now {role}.")


@app.command("list")
def list_members(output: OutputFormat = FormatOption) -> None:
    """List every member with their global role."""
    with command_session(load_settings()) as session:
        found = [
            MeRead.model_validate(m).model_dump(mode="json")
            for m in session.scalars(select(Member).order_by(Member.handle))
        ]
    table = Table("handle", "name", "role", "email", title=f"{len(found)} members")
    for member in found:
        table.add_row(member["handle"], member["display_name"], member["role"], member["email"])
    emit(found, output, table)
