"""HTML pages of the members domain."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
