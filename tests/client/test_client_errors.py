"""Typed errors: every documented error raises with its fields; others get clear types."""

from __future__ import annotations

import json
import pickle

import httpx
import pytest

from ark_batch import errors
from ark_batch.errors import (
    ActiveJobExistsError,
    ApiError,
    AuthenticationError,
    BadRequestError,
    DryRunSucceeded,
    InvalidParameterError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    ServiceUnavailableError,
    ThrottledError,
    UnexpectedResponseError,
    error_from_response,
    parse_active_job_id,
    parse_retry_after,
)
from ark_batch.facade import ArkBatch
from ark_batch.retries import NO_RETRY
from client.client_support import ScriptedService, error_envelope, mock_client


def _error(status: int, code: str, message: str = "m", **headers: str) -> BaseException:
    body = json.dumps(error_envelope("GetBatchInferenceJob", code, message, 100002)).encode()
    return error_from_response(status, httpx.Headers(headers), body, action="X")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "MissingParameter", InvalidParameterError),
        (400, "InvalidParameter", InvalidParameterError),
        (400, "MalformedJSON", InvalidParameterError),
        (400, "DryRunOperation", DryRunSucceeded),
        (400, "InvalidTimestamp", AuthenticationError),
        (400, "SomethingNew", BadRequestError),
        (401, "SignatureDoesNotMatch", AuthenticationError),
        (401, "Whatever", AuthenticationError),
        (403, "AccessDenied", PermissionDeniedError),
        (404, "InvalidBatchInferenceJob.NotFound", NotFoundError),
        (404, "InvalidActionOrVersion", NotFoundError),
        (405, "MethodNotAllowed", BadRequestError),
        (409, "OperationDenied.ActiveJobExists", ActiveJobExistsError),
        (413, "RequestEntityTooLarge", BadRequestError),
        (429, "FlowLimitExceeded", ThrottledError),
        (500, "InternalError", ServerError),
        (502, "BadGateway", ServerError),
        (503, "ServiceUnavailableTemp", ServiceUnavailableError),
    ],
)
def test_documented_errors_map_to_classes_by_meaning(
    status: int, code: str, expected: type[ApiError]
) -> None:
    error = _error(status, code, "the message")
    assert type(error) is expected
    assert isinstance(error, ApiError)
    assert error.status == status
    assert error.code == code
    assert error.code_n == 100002
    assert error.message == "the message"
    assert error.request_id == "2024091819464000000000000000ERR001"
    assert error.action == "GetBatchInferenceJob"  # from ResponseMetadata, not the fallback


def test_error_string_is_one_line_with_code_message_and_request_id() -> None:
    error = _error(404, "InvalidBatchInferenceJob.NotFound", "no job\nnamed x")
    text = str(error)
    assert "\n" not in text
    assert text == (
        "InvalidBatchInferenceJob.NotFound/100002 (HTTP 404): no job named x "
        "[RequestId: 2024091819464000000000000000ERR001, Action: GetBatchInferenceJob]"
    )


def test_api_errors_pickle_with_their_fields() -> None:
    error = _error(429, "FlowLimitExceeded", "slow down", **{"Retry-After": "3"})
    copy = pickle.loads(pickle.dumps(error))  # our own object
    assert type(copy) is ThrottledError
    assert (copy.status, copy.code, copy.retry_after) == (429, "FlowLimitExceeded", 3.0)


def test_active_job_id_is_parsed_from_the_message() -> None:
    error = _error(
        409,
        "OperationDenied.ActiveJobExists",
        "An active batch inference job bi-20240918194641-r2nwq already exists for this input.",
    )
    assert isinstance(error, ActiveJobExistsError)
    assert error.job_id == "bi-20240918194641-r2nwq"
    assert parse_active_job_id("active job: custom-ID_42 exists") == "custom-ID_42"
    assert parse_active_job_id("no id here") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0), ("0.5", 0.5), ("0", 0.0), ("", None), (None, None), ("soon", None),
        ("-4", None), ("-inf", None), ("inf", None), ("nan", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),  # already past
    ],
)  # fmt: skip
def test_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (502, b"<html>Bad Gateway</html>", "not JSON"),
        (400, b'{"message": "no envelope"}', "no ResponseMetadata.Error"),
        (418, b"", "not JSON"),
    ],
)
def test_undocumented_responses_raise_unexpected_response(
    status: int, body: bytes, reason: str
) -> None:
    error = error_from_response(status, httpx.Headers({"X-Tt-Logid": "log-1"}), body, action="A")
    assert isinstance(error, UnexpectedResponseError)
    assert error.status == status
    assert reason in error.reason
    assert error.request_id == "log-1"
    assert error.body == body


def test_facade_raises_unexpected_response_for_a_200_without_result() -> None:
    service = ScriptedService().then(lambda r: httpx.Response(200, json={"Result": None}))
    ark = ArkBatch(client=mock_client(service), retry=NO_RETRY)
    with ark, pytest.raises(UnexpectedResponseError, match="does not match") as caught:
        ark.get_job("bi-1")
    assert caught.value.status == 200


def test_a_200_carrying_the_error_envelope_raises_the_typed_error() -> None:
    body = error_envelope("GetBatchInferenceJob", "AccessDenied", "denied")
    service = ScriptedService().then(lambda r: httpx.Response(200, json=body))
    ark = ArkBatch(client=mock_client(service), retry=NO_RETRY)
    with ark, pytest.raises(PermissionDeniedError) as caught:
        ark.get_job("bi-1")
    assert caught.value.status == 200
    assert caught.value.message == "denied"


def test_facade_maps_transport_failures(fake_time: object) -> None:
    service = ScriptedService().then_raise(httpx.ConnectError)
    ark = ArkBatch(client=mock_client(service), retry=NO_RETRY)
    with ark, pytest.raises(errors.ConnectError) as caught:
        ark.get_job("bi-1")
    assert caught.value.sent is False
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    service = ScriptedService().then_raise(httpx.ReadTimeout)
    ark = ArkBatch(client=mock_client(service), retry=NO_RETRY)
    with ark, pytest.raises(errors.RequestTimeoutError) as timed_out:
        ark.get_job("bi-1")
    assert timed_out.value.sent is True


def test_all_errors_derive_from_ark_batch_error() -> None:
    for name in errors.__all__:
        value = getattr(errors, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, errors.ArkBatchError), name


def test_a_2xx_that_does_not_parse_keeps_the_log_id_as_request_id() -> None:
    import httpx  # noqa: PLC0415

    from ark_batch.facade import ArkBatch  # noqa: PLC0415
    from client.client_support import ScriptedService, mock_client  # noqa: PLC0415

    service = ScriptedService().then(
        lambda request: httpx.Response(
            200, content=b"<html>ok</html>", headers={"X-Tt-Logid": "L1"}
        )
    )
    with (
        ArkBatch(client=mock_client(service)) as ark,
        pytest.raises(UnexpectedResponseError) as caught,
    ):
        ark.get_job("bi-1")
    assert caught.value.request_id == "L1"


def test_every_kind_of_error_survives_pickling() -> None:
    import pickle  # noqa: PLC0415

    from ark_batch.errors import (  # noqa: PLC0415
        ConnectError,
        DeadlineExceededError,
        RedirectError,
        ResponseTooLargeError,
        WaitTimeoutError,
    )

    cases: list[Exception] = [
        ConnectError("cannot connect", action="GetBatchInferenceJob", sent=False),
        DeadlineExceededError("late", action="GetBatchInferenceJob"),
        RedirectError(status=301, location="https://elsewhere/", action="GetBatchInferenceJob"),
        ResponseTooLargeError("big", status=200, body=b"x"),
        UnexpectedResponseError("odd", status=502, body=b"<html>", request_id="L1"),
        WaitTimeoutError(None, 5.0, job_id="bi-1"),
    ]
    for error in cases:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert copy.__dict__ == error.__dict__
