"""Persistence of sync state. The only package that speaks SQL."""

from state.attention import AttentionItem
from state.customers import Profile
from state.issues import QUARANTINED, REJECTED, SKIPPED, RecordIssue, RecordRef, StoredIssue
from state.leases import LeaseInfo
from state.ledger import LedgerEntry, StagedEntry
from state.locations import StoredLocation
from state.organizations import OrganizationRecord
from state.runs import RunRecord
from state.store import StateStore

__all__ = [
    "QUARANTINED",
    "REJECTED",
    "SKIPPED",
    "AttentionItem",
    "LeaseInfo",
    "LedgerEntry",
    "OrganizationRecord",
    "Profile",
    "RecordIssue",
    "RecordRef",
    "RunRecord",
    "StagedEntry",
    "StateStore",
    "StoredIssue",
    "StoredLocation",
]
