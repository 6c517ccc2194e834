"""HTML pages of the communities domain."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
