"""Employer sign-up."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from api.deps import SessionDep
from api.schemas.common import Strict
from matcher import accounts

router = APIRouter(prefix="/v1/employers", tags=["employers"])


class EmployerCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    cvr: str | None = Field(default=None, pattern=r"^\d{8}$", description="Danish CVR number")
    contact_email: str | None = Field(
        default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    )


class EmployerCreated(BaseModel):
    id: uuid.UUID
    name: str
    api_key: str = Field(description="Shown once. Send as `Authorization: Bearer <api_key>`.")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EmployerCreated)
async def create_employer(body: EmployerCreate, session: SessionDep) -> EmployerCreated:
    employer, key = await accounts.create_employer(session, body.name, body.cvr, body.contact_email)
    return EmployerCreated(id=employer.id, name=employer.name, api_key=key)
