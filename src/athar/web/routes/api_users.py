"""JSON API: user accounts (administrators only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from athar.security.auth import Permission, Role, parse_role
from athar.services.access import users
from athar.web.deps import CsrfProtected, EngineDep, SessionDep, WebUser, requires
from athar.web.errors import InvalidInput
from athar.web.schemas import ErrorOut, UserCreate, UserCreated, UserOut

router = APIRouter(
    prefix="/api/v1/users",
    tags=["users"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}},
)
Admin = Annotated[WebUser, Depends(requires(Permission.MANAGE_USERS))]


@router.get("", response_model=list[UserOut])
def list_users(db: SessionDep, user: Admin) -> list[UserOut]:
    return [
        UserOut(
            username=u.username, display_name=u.display_name, role=u.role, source_code=u.source_code
        )
        for u in users.list_users(db, actor=user.actor)
    ]


@router.post(
    "",
    response_model=UserCreated,
    status_code=201,
    dependencies=[CsrfProtected],
    responses={422: {"model": ErrorOut}},
)
def create_user(body: UserCreate, engine: EngineDep, user: Admin) -> UserCreated:
    """Add a user with a generated password, returned once."""
    try:
        role: Role = parse_role(body.role)
        created, password = users.create_user(
            engine,
            actor=user.actor,
            username=body.username,
            display_name=body.display_name,
            role=role,
            source_code=body.source_code,
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return UserCreated(
        user=UserOut(
            username=created.username,
            display_name=created.display_name,
            role=created.role,
            source_code=created.source_code,
        ),
        password=password,
    )
