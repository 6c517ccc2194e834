"""JSON routes of the events domain."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["events"])
