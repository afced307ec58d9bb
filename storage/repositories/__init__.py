"""Repositories: they take a session, return plain records, and never commit."""

from storage.repositories.catalog import CampaignRepository, ObjectRepository
from storage.repositories.reporters import ReporterRepository
from storage.repositories.tips import TipDraft, TipRepository
from storage.repositories.updates import UpdateRepository

__all__ = [
    "CampaignRepository",
    "ObjectRepository",
    "ReporterRepository",
    "TipDraft",
    "TipRepository",
    "UpdateRepository",
]
