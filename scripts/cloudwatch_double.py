"""CloudWatch's alarms in moto, over the protocol the AWS SDK for Rust speaks to CloudWatch.

The Rust SDK calls CloudWatch with Smithy RPC v2 CBOR (``POST /service/
GraniteServiceVersion20100801/operation/<Operation>``, ``smithy-protocol: rpc-v2-cbor``, a CBOR
body); moto 5.2.5 only understands CloudWatch's older query protocol. This double answers the
operations the provider makes (``PutMetricAlarm``, ``DescribeAlarms``, ``DeleteAlarms``,
``GetMetricStatistics``) and ``PutMetricData`` (how the tests publish what S3 would) from and
into moto's own CloudWatch backend (the account from the access key, as moto finds it;
the region from the request's credential scope), so tests read the same alarms through
boto3-style query calls. Any other CBOR operation answers ``UnknownOperationException``.

It checks what CloudWatch checks for these parameters that the provider could get wrong: the
alarm name's length, a statistic and comparison operator CloudWatch knows, the period.
"""
import datetime
import re
import struct

PATH = re.compile(r"^/service/GraniteServiceVersion20100801/operation/(\w+)$")
SCOPE = re.compile(r"Credential=([^/]+)/\d+/([^/]+)/")
STATISTICS = {"SampleCount", "Average", "Sum", "Minimum", "Maximum"}
COMPARISONS = {
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
}


# --- CBOR (RFC 8949), the subset Smithy RPC v2 uses -------------------------------------


def _decode(data, i=0):
    """(value, next index) of the item at ``data[i]``."""
    head = data[i]
    major, info = head >> 5, head & 0x1F
    i += 1
    if major == 7:
        if info == 20:
            return False, i
        if info == 21:
            return True, i
        if info in (22, 23):
            return None, i
        if info == 25:
            return _half(data[i : i + 2]), i + 2
        if info == 26:
            return struct.unpack(">f", data[i : i + 4])[0], i + 4
        if info == 27:
            return struct.unpack(">d", data[i : i + 8])[0], i + 8
        raise ValueError(f"unsupported simple value {info}")
    if info < 24:
        arg = info
    elif info == 31:
        arg = None  # indefinite length
    else:
        size = 1 << (info - 24)
        arg = int.from_bytes(data[i : i + size], "big")
        i += size
    if major == 0:
        return arg, i
    if major == 1:
        return -1 - arg, i
    if major in (2, 3):
        if arg is None:
            parts = []
            while data[i] != 0xFF:
                part, i = _decode(data, i)
                parts.append(part)
            joined = (b"" if major == 2 else "").join(parts)
            return joined, i + 1
        raw = bytes(data[i : i + arg])
        return (raw if major == 2 else raw.decode()), i + arg
    if major == 4:
        out = []
        while (arg is None and data[i] != 0xFF) or (arg is not None and len(out) < arg):
            item, i = _decode(data, i)
            out.append(item)
        return out, (i + 1 if arg is None else i)
    if major == 5:
        out = {}
        while (arg is None and data[i] != 0xFF) or (arg is not None and len(out) < arg):
            key, i = _decode(data, i)
            out[key], i = _decode(data, i)
        return out, (i + 1 if arg is None else i)
    if major == 6:
        return _decode(data, i)  # tag (timestamps): the value alone
    raise ValueError(f"unsupported major type {major}")


def _half(b):
    bits = int.from_bytes(b, "big")
    sign = -1.0 if bits & 0x8000 else 1.0
    exp, frac = (bits >> 10) & 0x1F, bits & 0x3FF
    if exp == 0:
        return sign * frac * 2.0**-24
    if exp == 31:
        return sign * float("inf") if frac == 0 else float("nan")
    return sign * (1 + frac / 1024.0) * 2.0 ** (exp - 15)


def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")
    raise ValueError("integer too large")


class Timestamp(float):
    """Epoch seconds, encoded as Smithy RPC v2 CBOR encodes timestamps (tag 1)."""


def encode(v):
    if isinstance(v, Timestamp):
        return _head(6, 1) + b"\xfb" + struct.pack(">d", float(v))
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return _head(0, v) if v >= 0 else _head(1, -1 - v)
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, str):
        raw = v.encode()
        return _head(3, len(raw)) + raw
    if isinstance(v, (bytes, bytearray)):
        return _head(2, len(v)) + bytes(v)
    if isinstance(v, (list, tuple)):
        return _head(4, len(v)) + b"".join(encode(x) for x in v)
    if isinstance(v, dict):
        return _head(5, len(v)) + b"".join(encode(k) + encode(x) for k, x in v.items())
    raise TypeError(f"cannot encode {type(v).__name__}")


def decode(data):
    if not data:
        return {}
    value, _ = _decode(bytes(data))
    return value


# --- the operations ----------------------------------------------------------------------


class _Error(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _backend(environ):
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.iam.models import get_account_id_from

    match = SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        raise _Error(403, "MissingAuthenticationToken", "request is not signed")
    access_key, region = match.groups()
    return cloudwatch_backends[get_account_id_from(access_key)][region]


def _put_metric_alarm(backend, p):
    name = p.get("AlarmName") or ""
    if not 1 <= len(name) <= 255:
        raise _Error(400, "ValidationError", "AlarmName must be 1 to 255 characters")
    if p.get("Statistic") not in STATISTICS:
        raise _Error(400, "ValidationError", f"invalid Statistic {p.get('Statistic')!r}")
    if p.get("ComparisonOperator") not in COMPARISONS:
        raise _Error(400, "ValidationError", "invalid ComparisonOperator")
    period = p.get("Period") or 0
    if period < 10 or (period >= 60 and period % 60):
        raise _Error(400, "ValidationError", f"invalid Period {period}")
    backend.put_metric_alarm(
        name=name,
        namespace=p.get("Namespace"),
        metric_name=p.get("MetricName"),
        comparison_operator=p["ComparisonOperator"],
        evaluation_periods=p.get("EvaluationPeriods"),
        period=period,
        threshold=float(p.get("Threshold", 0.0)),
        statistic=p["Statistic"],
        description=p.get("AlarmDescription"),
        dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in p.get("Dimensions") or []],
        alarm_actions=list(p.get("AlarmActions") or []),
        ok_actions=list(p.get("OKActions") or []),
        insufficient_data_actions=list(p.get("InsufficientDataActions") or []),
        actions_enabled=p.get("ActionsEnabled", True),
        treat_missing_data=p.get("TreatMissingData"),
    )
    return {}


def _alarm(a):
    out = {
        "AlarmName": a.name,
        "AlarmArn": a.alarm_arn,
        "Namespace": a.namespace,
        "MetricName": a.metric_name,
        "Dimensions": [{"Name": d.name, "Value": d.value} for d in a.dimensions],
        "Statistic": a.statistic,
        "Period": int(a.period),
        "EvaluationPeriods": int(a.evaluation_periods),
        "Threshold": float(a.threshold),
        "ComparisonOperator": a.comparison_operator,
        "AlarmActions": list(a.alarm_actions),
        "OKActions": list(a.ok_actions),
        "InsufficientDataActions": list(a.insufficient_data_actions),
        "ActionsEnabled": bool(a.actions_enabled),
        "StateValue": a.state_value,
    }
    for key, value in (("AlarmDescription", a.description), ("TreatMissingData", a.treat_missing_data)):
        if value is not None:
            out[key] = value
    return out


def _describe_alarms(backend, p):
    alarms = list(backend.describe_alarms())
    if p.get("AlarmNamePrefix"):
        alarms = [a for a in alarms if a.name.startswith(p["AlarmNamePrefix"])]
    if p.get("AlarmNames"):
        alarms = [a for a in alarms if a.name in p["AlarmNames"]]
    return {"MetricAlarms": [_alarm(a) for a in sorted(alarms, key=lambda a: a.name)]}


def _delete_alarms(backend, p):
    names = list(p.get("AlarmNames") or [])
    if len(names) > 100:
        raise _Error(400, "ValidationError", "at most 100 AlarmNames")
    missing = [n for n in names if n not in backend.alarms]
    if missing:
        # CloudWatch deletes nothing then, and names what it did not find.
        raise _Error(404, "ResourceNotFound", f"alarms not found: {', '.join(missing)}")
    backend.delete_alarms(names)
    return {}


def _utc(epoch):
    """moto compares naive UTC datetimes."""
    return datetime.datetime.fromtimestamp(float(epoch), datetime.timezone.utc).replace(tzinfo=None)


def _dimensions(p):
    return [{"Name": d["Name"], "Value": d["Value"]} for d in p.get("Dimensions") or []]


def _put_metric_data(backend, p):
    data = []
    for m in p.get("MetricData") or []:
        datum = {"MetricName": m["MetricName"], "Dimensions": _dimensions(m), "Value": m.get("Value")}
        if m.get("Timestamp") is not None:
            datum["Timestamp"] = _utc(m["Timestamp"])
        if m.get("Unit"):
            datum["Unit"] = m["Unit"]
        data.append(datum)
    backend.put_metric_data(p.get("Namespace"), data)
    return {}


def _get_metric_statistics(backend, p):
    stats = list(p.get("Statistics") or [])
    if not stats or any(s not in STATISTICS for s in stats):
        raise _Error(400, "InvalidParameterCombination", "Statistics must name known statistics")
    period = p.get("Period") or 0
    if period < 1 or (period >= 60 and period % 60):
        raise _Error(400, "InvalidParameterValue", f"invalid Period {period}")
    start, end = _utc(p["StartTime"]), _utc(p["EndTime"])
    if start >= end:
        raise _Error(400, "InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime.")
    if (end - start).total_seconds() / period > 1440:
        raise _Error(400, "InvalidParameterCombination", "at most 1440 data points per call")
    points = backend.get_metric_statistics(
        p.get("Namespace"), p.get("MetricName"), start, end, period, stats, _dimensions(p)
    )
    out = []
    for point in points:
        item = {"Timestamp": Timestamp(point.timestamp.replace(tzinfo=datetime.timezone.utc).timestamp())}
        for stat in stats:
            item[stat] = float(point.get_statistics_for_type(stat))
        out.append(item)
    return {"Label": p.get("MetricName"), "Datapoints": out}


OPERATIONS = {
    "PutMetricAlarm": _put_metric_alarm,
    "DescribeAlarms": _describe_alarms,
    "DeleteAlarms": _delete_alarms,
    "PutMetricData": _put_metric_data,
    "GetMetricStatistics": _get_metric_statistics,
}


def _answer(start_response, status, body):
    payload = encode(body)
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}[status]
    start_response(
        f"{status} {reason}",
        [
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("Content-Length", str(len(payload))),
        ],
    )
    return [payload]


def handle(environ, start_response):
    """Answers a CloudWatch RPC v2 CBOR request, or returns None for any other request."""
    match = PATH.match(environ.get("PATH_INFO", ""))
    if not match or environ.get("HTTP_SMITHY_PROTOCOL") != "rpc-v2-cbor":
        return None
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    try:
        operation = OPERATIONS.get(match.group(1))
        if operation is None:
            raise _Error(400, "UnknownOperationException", f"{match.group(1)} is not modelled")
        return _answer(start_response, 200, operation(_backend(environ), decode(body)))
    except _Error as e:
        return _answer(start_response, e.status, {"__type": e.code, "message": e.message})


def install():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__

    def dispatch(self, environ, start_response):
        answered = handle(environ, start_response)
        if answered is not None:
            return answered
        return original(self, environ, start_response)

    DomainDispatcherApplication.__call__ = dispatch


def _self_test():
    for v in [0, 23, 24, 255, 65536, -1, -500, 1.5, "héllo", b"\x00", [1, [2]], {"a": {"b": None}}, True]:
        assert decode(encode(v)) == v, v
    # Indefinite-length map and text, as some encoders write them.
    assert decode(bytes([0xBF, 0x61, 0x61, 0x7F, 0x61, 0x62, 0xFF, 0xFF])) == {"a": "b"}
    assert _half(bytes([0x3C, 0x00])) == 1.0
    assert decode(encode(Timestamp(1.5))) == 1.5


if __name__ == "__main__":
    _self_test()
    print("ok")
