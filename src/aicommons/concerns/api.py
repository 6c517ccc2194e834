"""JSON routes of the concerns domain."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["concerns"])
