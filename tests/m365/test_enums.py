"""The Backup Storage enums are exactly the reference's lists (section 1), in order."""

import pytest

from m365.backup import enums

REFERENCE = {
    enums.BackupServiceStatus: "disabled, enabled, protectionChangeLocked, restoreLocked, "
    "unknownFutureValue",
    enums.BackupServiceConsumer: "unknown, firstparty, thirdparty, unknownFutureValue",
    enums.DisableReason: "none, invalidBillingProfile, userRequested, unknownFutureValue, "
    "controllerServiceAppDeleted",
    enums.ServiceAppStatus: "inactive, active, pendingActive, pendingInactive, unknownFutureValue",
    enums.ProtectionPolicyStatus: "inactive, activeWithErrors, updating, active, "
    "unknownFutureValue, offboardRequested, offboarded",
    enums.ProtectionUnitStatus: "protectRequested, protected, unprotectRequested, unprotected, "
    "removeRequested, unknownFutureValue, offboardRequested, "
    "offboarded, cancelOffboardRequested",
    enums.ProtectionRuleStatus: "draft, active, completed, completedWithErrors, "
    "unknownFutureValue, updateRequested, deleteRequested",
    enums.ProtectionSource: "none, manual, dynamicRule, unknownFutureValue",
    enums.ProtectionUnitsBulkJobStatus: "unknown, active, completed, completedWithErrors, "
    "unknownFutureValue",
    enums.RestoreSessionStatus: "draft, activating, active, completedWithError, completed, "
    "unknownFutureValue, failed",
    enums.ArtifactRestoreStatus: "added, scheduling, scheduled, inProgress, succeeded, failed, "
    "unknownFutureValue",
    enums.DestinationType: "new, inPlace, unknownFutureValue",
    enums.RestorePointTags: "none, fastRestore, unknownFutureValue",
    enums.RestorePointPreference: "latest, oldest, unknownFutureValue",
    enums.RestoreJobType: "standard, bulk, unknownFutureValue",
    enums.MailboxType: "unknown, user, shared, unknownFutureValue",
}


@pytest.mark.parametrize("enum", list(REFERENCE), ids=lambda e: e.__name__)
def test_members_match_the_reference(enum):
    assert [member.value for member in enum] == REFERENCE[enum].split(", ")


@pytest.mark.parametrize("enum", list(REFERENCE), ids=lambda e: e.__name__)
def test_unknown_values_fall_back(enum):
    assert enum("aValueMicrosoftAddsNextYear") is enum("unknownFutureValue")
    for member in enum:
        assert enum(member.value.upper()) is member
