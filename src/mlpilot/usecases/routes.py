"""REST routes of the usecases domain."""

from fastapi import APIRouter

router = APIRouter(tags=["usecases"])
