"""JSON routes of the insights domain."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["insights"])
