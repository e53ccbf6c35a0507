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

# The names connector/sync/runner.py still imports: Disposition's members (typed str
# there, as its disposition_of says).
SKIPPED: str = Disposition.SKIPPED
REJECTED: str = Disposition.REJECTED
QUARANTINED: str = Disposition.QUARANTINED

__all__ = [
    "QUARANTINED",
    "REJECTED",
    "SKIPPED",
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
