"""REST routes of the training domain."""

from fastapi import APIRouter

router = APIRouter(tags=["training"])
