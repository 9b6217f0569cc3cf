"""A test double for S3 replication inside moto, which stores replication configurations but
never replicates an object.

After a PUT into a bucket with a replication configuration, the double does what S3 does,
asynchronously (after ``REPLICATION_DOUBLE_DELAY_MS``, default 200 ms):

* the source version is marked ``PENDING`` at once if some enabled rule's prefix matches;
* each enabled rule whose filter (prefix, tags, And) matches the object's key and tags gets a
  replica in its destination bucket (the highest-priority rule per destination bucket wins),
  with the SAME version id, the object's metadata and tags, the rule's storage class, and
  SSE-KMS under the rule's ``ReplicaKmsKeyID`` (or the source's SSE-S3);
* SSE-KMS objects are only replicated by rules with ``SseKmsEncryptedObjects`` enabled;
* a missing or unversioned destination bucket makes the replication ``FAILED``;
* the source version becomes ``COMPLETED`` when every destination has its replica, otherwise
  ``FAILED``; replicas carry ``REPLICA``. ``x-amz-replication-status`` is returned by HEAD/GET.

It does NOT evaluate the replication role, bucket policies or key policies (neither does moto):
the provider's doctor does that. To exercise failure paths, tag a DESTINATION bucket with
``replication-double`` =
``fail`` (S3 reports FAILED), ``stall`` (stays PENDING for ever) or ``wrong-key`` (the replica
is written with SSE-S3 instead of the configured key).
"""
import copy
import os
import threading

CONTROL_TAG = "replication-double"
DELAY = int(os.environ.get("REPLICATION_DOUBLE_DELAY_MS", "200")) / 1000.0


def _as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _enabled(node):
    return isinstance(node, dict) and node.get("Status") == "Enabled"


def _rule_filter(rule):
    """(prefix, {tag: value}) of a stored rule (V1 Prefix or V2 Filter)."""
    if "Filter" not in rule:
        return rule.get("Prefix") or "", {}
    f = rule.get("Filter") or {}
    if "And" in f:
        f = f["And"] or {}
    tags = {t["Key"]: t.get("Value") or "" for t in _as_list(f.get("Tag"))}
    return f.get("Prefix") or "", tags


def _matches(rule, key_name, tags, check_tags=True):
    prefix, wanted = _rule_filter(rule)
    if not key_name.startswith(prefix):
        return False
    return not check_tags or all(tags.get(k) == v for k, v in wanted.items())


def _backend_of(bucket_name):
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket_name)
    if not owner:
        return None, None
    partition, account = owner
    backend = s3_backends[account][partition]
    return backend, backend.buckets.get(bucket_name)


def _find_version(bucket, key_name, version_id):
    for k in bucket.keys.getlist(key_name, []):
        if str(k.version_id) == str(version_id):
            return k
    return None


def _replicate_one(src_backend, src, rule, tags):
    """Writes the replica for one rule; returns True when it is in place."""
    from moto.s3.models import FakeKey

    dest = rule.get("Destination") or {}
    dest_name = (dest.get("Bucket") or "").split(":::", 1)[-1]
    backend, bucket = _backend_of(dest_name)
    if bucket is None or not bucket.is_versioned:
        return False
    control = backend.tagger.get_tag_dict_for_resource(bucket.arn).get(CONTROL_TAG)
    if control == "fail":
        return False
    if control == "stall":
        return None
    replica_key = (dest.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
    if src.encryption == "aws:kms" and replica_key and control != "wrong-key":
        encryption, kms_key = "aws:kms", replica_key
    elif src.encryption == "aws:kms":
        encryption, kms_key = "AES256", None
    else:
        encryption, kms_key = src.encryption, None
    replica = FakeKey(
        name=src.name,
        value=src.value,
        account_id=backend.account_id,
        region_name=bucket.region_name,
        storage=dest.get("StorageClass") or src.storage_class,
        is_versioned=True,
        version_id=src.version_id,
        bucket_name=dest_name,
        encryption=encryption,
        kms_key_id=kms_key,
    )
    replica._metadata = copy.deepcopy(src._metadata)
    replica.replication_status = "REPLICA"
    # Replicating a version again (S3 Batch Replication) overwrites its replica: one per id.
    others = [
        k for k in bucket.keys.getlist(src.name, []) if str(k.version_id) != str(src.version_id)
    ]
    bucket.keys.setlist(src.name, others + [replica])
    if tags:
        backend.tagger.tag_resource(
            replica.arn, [{"Key": k, "Value": v} for k, v in tags.items()]
        )
    return True


def _chosen_rules(config, src, tags):
    """{destination bucket ARN: rule} of the rules that replicate the version ``src`` (key
    ``src.name`` with ``tags``): enabled, matching, SSE-KMS objects only when the rule selects
    them, the highest priority per destination. Empty when the version is not eligible."""
    kms = src.encryption == "aws:kms"
    chosen = {}
    for rule in _as_list(config.get("Rule")):
        if rule.get("Status") != "Enabled" or not _matches(rule, src.name, tags):
            continue
        if kms and not _enabled(
            (rule.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects")
        ):
            continue
        dest = (rule.get("Destination") or {}).get("Bucket")
        best = chosen.get(dest)
        if best is None or int(rule.get("Priority") or 0) > int(best.get("Priority") or 0):
            chosen[dest] = rule
    return chosen


def _replicate(src_backend, bucket_name, key_name, version_id):
    bucket = src_backend.buckets.get(bucket_name)
    config = getattr(bucket, "replication", None) if bucket else None
    src = _find_version(bucket, key_name, version_id) if bucket else None
    if not config or src is None:
        return
    tags = src_backend.tagger.get_tag_dict_for_resource(src.arn)
    chosen = _chosen_rules(config, src, tags)
    if not chosen:
        src.replication_status = None
        return
    results = [_replicate_one(src_backend, src, r, tags) for r in chosen.values()]
    if any(r is None for r in results):
        return  # stalled: stays PENDING
    src.replication_status = "COMPLETED" if all(results) else "FAILED"


def install():
    from moto.s3.models import FakeKey, S3Backend

    FakeKey.replication_status = None
    original_response_dict = FakeKey.response_dict

    def response_dict(self):
        res = original_response_dict.fget(self)
        if self.replication_status:
            res["x-amz-replication-status"] = self.replication_status
        return res

    FakeKey.response_dict = property(response_dict)
    original_put = S3Backend.put_object

    def put_object(self, bucket_name, key_name, *args, **kwargs):
        key = original_put(self, bucket_name, key_name, *args, **kwargs)
        bucket = self.buckets.get(bucket_name)
        config = getattr(bucket, "replication", None) if bucket else None
        if config and bucket.is_versioned:
            rules = [r for r in _as_list(config.get("Rule")) if r.get("Status") == "Enabled"]
            if any(_matches(r, key_name, {}, check_tags=False) for r in rules):
                key.replication_status = "PENDING"
                timer = threading.Timer(
                    DELAY, _replicate, args=(self, bucket_name, key_name, key.version_id)
                )
                timer.daemon = True
                timer.start()
        return key

    S3Backend.put_object = put_object
