"""The low-level signer against the official SDK's test vectors (fact sheet section 4)."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ark_batch import signing
from ark_batch.signing import (
    EMPTY_BODY_SHA256,
    SigningKeyCache,
    canonical_headers,
    canonical_host,
    canonical_query,
    canonical_query_from_pairs,
    canonical_request,
    compute_signature,
    credential_scope,
    derive_key_chain,
    derive_signing_key,
    format_x_date,
    is_signed_header,
    parse_authorization,
    select_signed_headers,
    sign,
    string_to_sign,
)

AK = "AKLTEXAMPLEAK1234567890"
SK = "ExampleSecretKey+/0123456789abcdefEXAMPLE=="
REGION = "cn-beijing"
SERVICE = "ark"
X_DATE = "20240514T132743Z"
GET_QUERY = "Action=GetBatchInferenceJob&Version=2024-01-01"
OPEN_HOST = "open.volcengineapi.com"
ARK_HOST = "ark.cn-beijing.volcengineapi.com"

V1_BODY = b'{"Id": "bi-20240918194641-r2nwq"}'
V1_BODY_SHA256 = "39393578e0cfbab16e5d86538566a44375063e058a1d224ec2fc63197f600804"
V1_CANONICAL_REQUEST = (
    "POST\n"
    "/\n"
    "Action=GetBatchInferenceJob&Version=2024-01-01\n"
    "content-type:application/json\n"
    "host:open.volcengineapi.com\n"
    "x-content-sha256:39393578e0cfbab16e5d86538566a44375063e058a1d224ec2fc63197f600804\n"
    "x-date:20240514T132743Z\n"
    "\n"
    "content-type;host;x-content-sha256;x-date\n"
    "39393578e0cfbab16e5d86538566a44375063e058a1d224ec2fc63197f600804"
)
V1_CANONICAL_HASH = "31313c7bf48655ee9424c830c873dd8c7e73f7fa47472b0581dd813daae1e62d"
V1_STRING_TO_SIGN = (
    "HMAC-SHA256\n"
    "20240514T132743Z\n"
    "20240514/cn-beijing/ark/request\n"
    "31313c7bf48655ee9424c830c873dd8c7e73f7fa47472b0581dd813daae1e62d"
)
V1_SIGNATURE = "7bd360c8c9aec236b8d2f041544fe2cbdaa1b3871054463b4ac4741adb918d98"
V1_AUTHORIZATION = (
    "HMAC-SHA256 Credential=AKLTEXAMPLEAK1234567890/20240514/cn-beijing/ark/request, "
    "SignedHeaders=content-type;host;x-content-sha256;x-date, "
    "Signature=7bd360c8c9aec236b8d2f041544fe2cbdaa1b3871054463b4ac4741adb918d98"
)

V2_TOKEN = "STSTOKENEXAMPLE"
V2_CANONICAL_HASH = "814a48a741ae34460dcbae8dc1c27a9eb9edec64dda9dcee303cc7ea8d694568"
V2_SIGNATURE = "2096dbdc97fce222e462901f4a7473e5e1424dc70a8643b6b6473f02593687de"

V3_QUERY = "Action=CreateBatchInferenceJob&Version=2024-01-01"
V3_BODY = (
    b'{"CompletionWindow": "1d", "InputFileTosLocation": {"BucketName": "my-bucket-name", '
    b'"ObjectKey": "batch-inference-job/dataset/my-job.jsonl"}, "ModelReference": '
    b'{"FoundationModel": {"ModelVersion": "240615", "Name": "doubao-pro-32k"}}, '
    b'"Name": "\\u6279\\u91cf\\u63a8\\u7406\\u4efb\\u52a1", "OutputDirTosLocation": '
    b'{"BucketName": "my-bucket-name", "ObjectKey": "batch-inference-job/output/"}, '
    b'"ProjectName": "default", "Tags": [{"Key": "test_key", "Value": "test_value"}]}'
)
V3_BODY_SHA256 = "4d43d07d1cbd8d3768d4ada3338d8c05da73be6eb34bad75af695b16456d5971"
V3_CANONICAL_HASH = "723df084aa9cee1f84da3c18f7689e9f4ce38c418ab8c652c3e78c22eb64bc85"
V3_SIGNATURE = "6fe2542eb40f5978f20fb964e314fb9c064f88e63dbd7f77099aa18a73ee3523"

V4_X_DATE = "20250115T095231Z"
V4_QUERY = "Action=ListBatchInferenceJobs&Version=2024-01-01"
V4_CONTENT_TYPE = "application/json; charset=UTF-8"
V4_BODY = b'{"PageNumber":1,"PageSize":10,"Filter":{"Phases":["Running","Queued"]}}'
V4_BODY_SHA256 = "af1ffda363fbdf3841f9e6a34f1a22df352ea673c9353ef2766196f83a128b53"
V4_CANONICAL_HASH = "8bc59ce2015bda8eba5a31f5f3d8f1496683cf2daefcee74b1ae6762fc733439"
V4_SIGNATURE = "ca4fc30f0d4acbf8f349f394a550605c1dd4c7bcba6b144091d46b1e947cfb28"

V5_SDK_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
V5_SIGNATURE = "748c289db11bf3976d3adec602d9061913b6f8192688946b4835a7a29e6f57ec"

SIGNED_NAMES = ["content-type", "host", "x-content-sha256", "x-date"]


def _sign(
    *,
    query: str = GET_QUERY,
    headers: dict[str, str] | None = None,
    body: bytes = V1_BODY,
    x_date: str = X_DATE,
    session_token: str | None = None,
    key_cache: SigningKeyCache | None = None,
) -> dict[str, str]:
    return sign(
        method="POST",
        path="/",
        query=query,
        headers=headers if headers is not None else json_headers(OPEN_HOST),
        body=body,
        access_key=AK,
        secret_key=SK,
        region=REGION,
        service=SERVICE,
        x_date=x_date,
        session_token=session_token,
        key_cache=key_cache,
    )


def json_headers(host: str, content_type: str = "application/json") -> dict[str, str]:
    """Headers as a client sends them, including two that are never signed."""
    return {
        "Host": host,
        "Content-Type": content_type,
        "Accept": "application/json",
        "User-Agent": "volcstack-python-sdk/5.0.54",
    }


def _signature_of(authorization: str) -> str:
    return parse_authorization(authorization).signature


# --- signing key ---------------------------------------------------------------------


def test_key_chain_matches_vector() -> None:
    chain = derive_key_chain(SK, "20240514", REGION, SERVICE)
    assert chain.k_date.hex() == "c636312f67d31487e0e2da2c2fec5ed826cf45894eeba9ff9da0ca128cd7c1d6"
    assert chain.k_region.hex() == (
        "168d7540beb73fb9771159cccad29c7bcc361ae2d8465ac6b231cfbca0e9dc45"
    )
    assert chain.k_service.hex() == (
        "39585881b9105117e6b3bdf124ae21096aeb203af7bd1a024cb56aceafbdc2e3"
    )
    assert chain.k_signing.hex() == (
        "e33eff2df2aa3d4aa10cfcb87c77d349751e08b2e6f3adeadadbbd4a29f02d9d"
    )
    assert derive_signing_key(SK, "20240514", REGION, SERVICE) == chain.k_signing


def test_key_cache_derives_once_per_scope_and_is_bounded() -> None:
    cache = SigningKeyCache(maxsize=2)
    first = cache.get(SK, "20240514", REGION, SERVICE)
    assert cache.get(SK, "20240514", REGION, SERVICE) == first
    assert (cache.hits, cache.misses) == (1, 1)
    assert first == derive_signing_key(SK, "20240514", REGION, SERVICE)

    cache.get(SK, "20240515", REGION, SERVICE)
    cache.get(SK, "20240515", "cn-shanghai", SERVICE)
    assert cache.misses == 3
    assert len(cache) == 2  # the 20240514 key was evicted...
    cache.get(SK, "20240514", REGION, SERVICE)
    assert cache.misses == 4  # ...so it is derived again

    cache.clear()
    assert (len(cache), cache.hits, cache.misses) == (0, 0, 0)


def test_key_cache_repr_hides_secrets_and_rejects_zero_size() -> None:
    cache = SigningKeyCache()
    key = cache.get(SK, "20240514", REGION, SERVICE)
    assert repr(cache) == "SigningKeyCache(size=1, maxsize=8)"
    assert SK not in repr(cache)
    assert key.hex() not in repr(cache)
    with pytest.raises(ValueError, match="maxsize"):
        SigningKeyCache(maxsize=0)


def test_empty_key_cache_is_used_not_replaced_by_the_default() -> None:
    cache = SigningKeyCache()
    assert not cache  # empty caches are falsy; sign() must still use this one
    _sign(key_cache=cache)
    assert cache.misses == 1


# --- V1 ----------------------------------------------------------------------------------


def test_v1_canonical_request_string_to_sign_and_signature() -> None:
    headers = {
        "content-type": "application/json",
        "host": OPEN_HOST,
        "x-content-sha256": V1_BODY_SHA256,
        "x-date": X_DATE,
    }
    assert hashlib.sha256(V1_BODY).hexdigest() == V1_BODY_SHA256
    canonical = canonical_request(
        "POST",
        "/",
        canonical_query(GET_QUERY),
        canonical_headers(headers, SIGNED_NAMES),
        ";".join(SIGNED_NAMES),
        V1_BODY_SHA256,
    )
    assert canonical == V1_CANONICAL_REQUEST
    assert hashlib.sha256(canonical.encode()).hexdigest() == V1_CANONICAL_HASH
    scope = credential_scope("20240514", REGION, SERVICE)
    assert scope == "20240514/cn-beijing/ark/request"
    assert string_to_sign(X_DATE, scope, canonical) == V1_STRING_TO_SIGN


def test_v1_sign_returns_vector_headers() -> None:
    assert _sign() == {
        "X-Date": X_DATE,
        "X-Content-Sha256": V1_BODY_SHA256,
        "Authorization": V1_AUTHORIZATION,
    }


def test_v1_sign_logs_exact_canonical_request_and_string_to_sign(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="ark_batch.signing"):
        headers = _sign()
    messages = [record.getMessage() for record in caplog.records]
    assert f"canonical request:\n{V1_CANONICAL_REQUEST}" in messages
    assert f"string to sign:\n{V1_STRING_TO_SIGN}" in messages
    assert V1_SIGNATURE in headers["Authorization"]
    assert V1_SIGNATURE not in caplog.text
    assert SK not in caplog.text
    assert AK not in caplog.text  # shown as AKLT…


def test_v1_compute_signature_verifies() -> None:
    received = {**json_headers(OPEN_HOST), "X-Date": X_DATE, "X-Content-Sha256": V1_BODY_SHA256}
    signature = compute_signature(
        method="POST",
        path="/",
        query=GET_QUERY,
        headers=received,
        signed_headers=SIGNED_NAMES,
        body_sha256=V1_BODY_SHA256,
        x_date=X_DATE,
        date="20240514",
        region=REGION,
        service=SERVICE,
        secret_key=SK,
    )
    assert signature == V1_SIGNATURE


# --- V2-V4 --------------------------------------------------------------------------------


def test_v2_session_token_is_sent_and_signed() -> None:
    headers = _sign(headers=json_headers(ARK_HOST), session_token=V2_TOKEN)
    assert headers["X-Security-Token"] == V2_TOKEN
    parsed = parse_authorization(headers["Authorization"])
    assert parsed.signed_headers == (
        "content-type",
        "host",
        "x-content-sha256",
        "x-date",
        "x-security-token",
    )
    assert parsed.signature == V2_SIGNATURE

    names = [*SIGNED_NAMES, "x-security-token"]
    values = {
        "content-type": "application/json",
        "host": ARK_HOST,
        "x-content-sha256": V1_BODY_SHA256,
        "x-date": X_DATE,
        "x-security-token": V2_TOKEN,
    }
    canonical = canonical_request(
        "POST",
        "/",
        canonical_query(GET_QUERY),
        canonical_headers(values, names),
        ";".join(names),
        V1_BODY_SHA256,
    )
    assert hashlib.sha256(canonical.encode()).hexdigest() == V2_CANONICAL_HASH


def test_v3_create_job() -> None:
    assert hashlib.sha256(V3_BODY).hexdigest() == V3_BODY_SHA256
    values = {
        "content-type": "application/json",
        "host": OPEN_HOST,
        "x-content-sha256": V3_BODY_SHA256,
        "x-date": X_DATE,
    }
    canonical = canonical_request(
        "POST",
        "/",
        canonical_query(V3_QUERY),
        canonical_headers(values, SIGNED_NAMES),
        ";".join(SIGNED_NAMES),
        V3_BODY_SHA256,
    )
    assert hashlib.sha256(canonical.encode()).hexdigest() == V3_CANONICAL_HASH
    headers = _sign(query=V3_QUERY, body=V3_BODY)
    assert headers["X-Content-Sha256"] == V3_BODY_SHA256
    assert _signature_of(headers["Authorization"]) == V3_SIGNATURE


def test_v4_list_jobs_other_day_host_and_charset() -> None:
    assert hashlib.sha256(V4_BODY).hexdigest() == V4_BODY_SHA256
    headers = _sign(
        query=V4_QUERY,
        headers=json_headers(ARK_HOST, V4_CONTENT_TYPE),
        body=V4_BODY,
        x_date=V4_X_DATE,
    )
    assert headers["Authorization"] == (
        "HMAC-SHA256 Credential=AKLTEXAMPLEAK1234567890/20250115/cn-beijing/ark/request, "
        f"SignedHeaders=content-type;host;x-content-sha256;x-date, Signature={V4_SIGNATURE}"
    )
    values = {
        "content-type": V4_CONTENT_TYPE,
        "host": ARK_HOST,
        "x-content-sha256": V4_BODY_SHA256,
        "x-date": V4_X_DATE,
    }
    canonical = canonical_request(
        "POST",
        "/",
        canonical_query(V4_QUERY),
        canonical_headers(values, SIGNED_NAMES),
        ";".join(SIGNED_NAMES),
        V4_BODY_SHA256,
    )
    to_sign = string_to_sign(V4_X_DATE, "20250115/cn-beijing/ark/request", canonical)
    assert to_sign.splitlines()[-1] == V4_CANONICAL_HASH


# --- V5 and other quirks ----------------------------------------------------------------------


def test_v5_weird_query_key_canonicalises_like_the_sdk() -> None:
    expected = "Action=ListBatchInferenceJobs&Version=2024-01-01&Weird%20Key=a%20b%2Fc~%2A%C3%A9"
    pairs = [("Action", "ListBatchInferenceJobs"), ("Version", "2024-01-01")]
    assert canonical_query_from_pairs([*pairs, ("Weird Key", "a b/c~*é")]) == expected
    # The same query as a client puts it on the wire, in other orders and encodings.
    assert canonical_query(f"Weird%20Key=a+b%2Fc%7E%2A%C3%A9&{V4_QUERY}") == expected
    assert canonical_query(f"{V4_QUERY}&Weird+Key=a%20b/c~*%c3%a9") == expected


def test_v5_host_port_443_is_dropped_from_the_canonical_host_only() -> None:
    assert canonical_host("open.volcengineapi.com:443") == OPEN_HOST
    assert canonical_host("open.volcengineapi.com:80") == OPEN_HOST
    assert canonical_host("localhost:8080") == "localhost:8080"
    assert canonical_host("[::1]:443") == "[::1]"
    assert canonical_host("[::1]") == "[::1]"
    block = canonical_headers({"host": "open.volcengineapi.com:443"}, ["host"])
    assert block == "host:open.volcengineapi.com\n"


def test_v5_signature_with_the_content_type_the_sdk_inserts_and_empty_body() -> None:
    headers = _sign(
        headers={"Host": "open.volcengineapi.com:443", "Content-Type": V5_SDK_CONTENT_TYPE},
        body=b"",
    )
    assert headers["X-Content-Sha256"] == EMPTY_BODY_SHA256
    assert EMPTY_BODY_SHA256.startswith("e3b0c442")
    assert EMPTY_BODY_SHA256.endswith("b855")
    assert _signature_of(headers["Authorization"]) == V5_SIGNATURE


def test_header_values_are_signed_untrimmed() -> None:
    block = canonical_headers({"x-top-foo": "  spaced  "}, ["x-top-foo"])
    assert block == "x-top-foo:  spaced  \n"


def test_header_selection_ignores_case_unlike_the_sdk() -> None:
    headers = {
        "Host": OPEN_HOST,
        "CONTENT-TYPE": "application/json",
        "Content-MD5": "abc",
        "x-custom": "1",  # the SDK would not sign this lowercase spelling; we do
        "X-Top-Foo": "  spaced  ",
        "Accept": "*/*",
        "User-Agent": "ua",
        "Authorization": "old",
        "xylophone": "no",
    }
    assert select_signed_headers(headers) == {
        "host": OPEN_HOST,
        "content-type": "application/json",
        "content-md5": "abc",
        "x-custom": "1",
        "x-top-foo": "  spaced  ",
    }
    assert is_signed_header("X-Anything")
    assert not is_signed_header("Accept")


def test_compute_signature_verifies_an_sdk_request_with_an_unsigned_lowercase_header() -> None:
    # Signature observed by running the official SDK signer (5.0.54, frozen clock) on V5
    # plus `x-custom: 1` and `X-Top-Foo: "  spaced  "`: it signs X-Top-Foo but not x-custom.
    # A verifier must follow the client's SignedHeaders, not its own selection rule.
    received = {
        "Host": "open.volcengineapi.com:443",
        "Content-Type": V5_SDK_CONTENT_TYPE,
        "x-custom": "1",
        "X-Top-Foo": "  spaced  ",
        "X-Date": X_DATE,
        "X-Content-Sha256": EMPTY_BODY_SHA256,
    }
    signature = compute_signature(
        method="POST",
        path="/",
        query=GET_QUERY,
        headers=received,
        signed_headers=["content-type", "host", "x-content-sha256", "x-date", "x-top-foo"],
        body_sha256=EMPTY_BODY_SHA256,
        x_date=X_DATE,
        date="20240514",
        region=REGION,
        service=SERVICE,
        secret_key=SK,
    )
    assert signature == "e2d5f239bf32c0e2481056f2cf2b837f03062c41de0b6ed5672b553e14eadb87"


@pytest.mark.parametrize(
    ("raw_query", "expected"),
    [
        ("", ""),
        ("a=1&a=2", "a=2"),  # repeated keys: last wins, as in the SDK
        ("b=2&a=1&a=3", "a=3&b=2"),
        ("flag&x=", "flag=&x="),
        ("k=a+b", "k=a%20b"),
        ("k=%7e%41", "k=~A"),  # unreserved characters are decoded
        ("k=%FF", "k=%FF"),  # not UTF-8: the bytes survive unchanged
        ("B=1&a=1&_=1", "B=1&_=1&a=1"),  # byte order of the encoded keys
        ("&&a=1&", "a=1"),
    ],
)
def test_canonical_query(raw_query: str, expected: str) -> None:
    assert canonical_query(raw_query) == expected


def test_canonical_query_from_pairs_last_wins() -> None:
    assert canonical_query_from_pairs([("a", "1"), ("b", "x y"), ("a", "2")]) == "a=2&b=x%20y"


# --- sign() against the straightforward rebuild ---------------------------------------------


@pytest.mark.parametrize("session_token", [None, "token-value"])
@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"X-Aaa": "before everything"},
        {"x-custom": "between hash and date"},
        {"X-E-Foo": "between date and token", "Content-MD5": "md5=="},
        {"X-Zzz": "after the token", "X-Top-Foo": "  spaced  "},
    ],
)
def test_sign_agrees_with_compute_signature(
    session_token: str | None, extra: dict[str, str]
) -> None:
    request_headers = {**json_headers("localhost:8080"), **extra}
    for body, x_date in [(b"{}", X_DATE), (V1_BODY, "20240515T000001Z")]:
        added = _sign(
            headers=request_headers, body=body, x_date=x_date, session_token=session_token
        )
        parsed = parse_authorization(added["Authorization"])
        expected_names = sorted(
            {"content-type", "host", "x-content-sha256", "x-date"}
            | {name.lower() for name in extra}
            | ({"x-security-token"} if session_token else set())
        )
        assert list(parsed.signed_headers) == expected_names
        signature = compute_signature(
            method="POST",
            path="/",
            query=GET_QUERY,
            headers={**request_headers, **added},
            signed_headers=parsed.signed_headers,
            body_sha256=hashlib.sha256(body).hexdigest(),
            x_date=x_date,
            date=x_date[:8],
            region=REGION,
            service=SERVICE,
            secret_key=SK,
        )
        assert signature == parsed.signature


def test_sign_ignores_stale_signing_headers_in_its_input() -> None:
    stale = {
        **json_headers(OPEN_HOST),
        "X-Date": "19990101T000000Z",
        "X-Content-Sha256": "0" * 64,
        "X-Security-Token": "old-token",
    }
    assert _sign(headers=stale) == _sign()


def test_compute_signature_rejects_missing_signed_header() -> None:
    with pytest.raises(ValueError, match="x-missing"):
        compute_signature(
            method="POST",
            path="/",
            query=GET_QUERY,
            headers={"Host": OPEN_HOST},
            signed_headers=["host", "x-missing"],
            body_sha256=EMPTY_BODY_SHA256,
            x_date=X_DATE,
            date="20240514",
            region=REGION,
            service=SERVICE,
            secret_key=SK,
        )


def test_wrong_secret_gives_a_different_signature() -> None:
    assert _signature_of(_sign()["Authorization"]) == V1_SIGNATURE
    other = sign(
        method="POST",
        path="/",
        query=GET_QUERY,
        headers=json_headers(OPEN_HOST),
        body=V1_BODY,
        access_key=AK,
        secret_key=SK + "x",
        region=REGION,
        service=SERVICE,
        x_date=X_DATE,
    )
    assert _signature_of(other["Authorization"]) != V1_SIGNATURE


# --- parse_authorization, format_x_date, logging ---------------------------------------------


def test_parse_authorization_v1() -> None:
    parsed = parse_authorization(V1_AUTHORIZATION)
    assert parsed == (AK, "20240514", REGION, SERVICE, "request", tuple(SIGNED_NAMES), V1_SIGNATURE)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Bearer abc",
        "HMAC-SHA256 Credential=AK/20240514/cn-beijing/ark/request, SignedHeaders=host",
        "HMAC-SHA256 Credential=AK/20240514/ark/request, SignedHeaders=host, Signature=ab",
        "HMAC-SHA256 Credential=AK/20240514/cn-beijing/ark/request SignedHeaders=host",
        "HMAC-SHA256 Credential=/20240514/cn-beijing/ark/request, SignedHeaders=h, Signature=a",
    ],
)
def test_parse_authorization_rejects_malformed(value: str) -> None:
    with pytest.raises(ValueError, match="authorization header"):
        parse_authorization(value)


def test_format_x_date() -> None:
    assert format_x_date(datetime(2024, 5, 14, 13, 27, 43, 999_999, tzinfo=UTC)) == X_DATE
    beijing = timezone(timedelta(hours=8))
    assert format_x_date(datetime(2024, 5, 14, 21, 27, 43, tzinfo=beijing)) == X_DATE
    with pytest.raises(ValueError, match="naive"):
        format_x_date(datetime(2024, 5, 14, 13, 27, 43))


def test_sign_debug_log_redacts_token_and_signature(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="ark_batch.signing"):
        headers = _sign(headers=json_headers(ARK_HOST), session_token=V2_TOKEN)
    assert _signature_of(headers["Authorization"]) == V2_SIGNATURE
    assert "x-security-token:<redacted>\n" in caplog.text
    assert "Signature=<redacted>" in caplog.text
    for secret in (SK, V2_TOKEN, V2_SIGNATURE):
        assert secret not in caplog.text


def test_no_debug_records_when_debug_is_off(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="ark_batch.signing"):
        _sign()
    assert [r for r in caplog.records if r.name == signing.logger.name] == []
