"""HTML pages of the insights domain."""

from fastapi import APIRouter, Depends

from aicommons.core.web import require_csrf

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])
