"""The words shown for complaint states, channels, forwarding targets and handling steps."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from .models import ComplaintChannel, ComplaintStatus, ForwardTarget, SampleRequestStatus

STATUS_LABELS = {
    ComplaintStatus.RECEIVED: _l("received"),
    ComplaintStatus.ADVISING: _l("advising"),
    ComplaintStatus.FORWARDED: _l("forwarded"),
    ComplaintStatus.MEDIATING: _l("mediating"),
    ComplaintStatus.RESOLVED: _l("resolved successfully"),
    ComplaintStatus.UNRESOLVED: _l("resolved unsuccessfully"),
    ComplaintStatus.WITHDRAWN: _l("withdrawn"),
    ComplaintStatus.OUT_OF_SCOPE: _l("out of scope"),
}
CHANNEL_LABELS = {
    ComplaintChannel.HOTLINE: _l("Hotline call"),
    ComplaintChannel.WALK_IN: _l("Walk-in"),
    ComplaintChannel.LETTER: _l("Letter"),
    ComplaintChannel.WEB_FORM: _l("Web form"),
    ComplaintChannel.EMAIL: _l("E-mail"),
    ComplaintChannel.SWITCHBOARD: _l("National consumer switchboard"),
    ComplaintChannel.AGENCY: _l("Forwarded by an agency"),
}
FORWARD_LABELS = {
    ForwardTarget.BUSINESS: _l("the business"),
    ForwardTarget.AGENCY: _l("a competent agency"),
}
ACTION_LABELS = {
    "receive": _l("Complaint received"),
    "assign": _l("Taken over"),
    "accept": _l("Accepted; advising the consumer"),
    "forward": _l("Forwarded"),
    "mediate": _l("Mediation started"),
    "note": _l("Note"),
    "attach": _l("Attachments added"),
    "propose": _l("Proposed to close as resolved successfully"),
    "reject_proposal": _l("Proposal to close sent back"),
    "resolve": _l("Resolved successfully (approved)"),
    "unresolved": _l("Closed: resolved unsuccessfully"),
    "withdraw": _l("Withdrawn"),
    "out_of_scope": _l("Declined: out of scope"),
    "request_testing": _l("Testing requested"),
    "cancel_testing": _l("Testing request cancelled"),
    "sample_registered": _l("Sample registered by the lab"),
    "inform": _l("Consumer told the testing outcome"),
    "personal_update": _l("Consumer's details corrected"),
    "pseudonymise": _l("Personal data pseudonymised"),
}


def status_label(status: ComplaintStatus | str) -> Any:
    return STATUS_LABELS.get(ComplaintStatus(status), str(status))


def channel_label(channel: ComplaintChannel | str) -> Any:
    return CHANNEL_LABELS.get(ComplaintChannel(channel), str(channel))


REQUEST_LABELS = {
    SampleRequestStatus.REQUESTED: _l("waiting for the lab"),
    SampleRequestStatus.REGISTERED: _l("sample registered"),
    SampleRequestStatus.CANCELLED: _l("cancelled"),
}


def request_label(status: SampleRequestStatus | str) -> Any:
    return REQUEST_LABELS.get(SampleRequestStatus(status), str(status))
