"""JSON routes of the journeys domain."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["journeys"])
