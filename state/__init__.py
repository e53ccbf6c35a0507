"""Persistence of sync state. The only package that speaks SQL."""

from state.attention import AttentionItem
from state.customers import Profile
from state.issues import Disposition, RecordIssue, RecordRef, Resolution, StoredIssue
from state.leases import LeaseInfo
from state.ledger import LedgerEntry, LedgerStatus, StagedEntry
from state.locations import StoredLocation
from state.organizations import OrganizationRecord
from state.runs import RunRecord
from state.store import StateStore

__all__ = [
    "AttentionItem",
    "Disposition",
    "LeaseInfo",
    "LedgerEntry",
    "LedgerStatus",
    "OrganizationRecord",
    "Profile",
    "RecordIssue",
    "RecordRef",
    "Resolution",
    "RunRecord",
    "StagedEntry",
    "StateStore",
    "StoredIssue",
    "StoredLocation",
]
