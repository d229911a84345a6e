"""compose.yaml gives the app its own MinIO user, limited to the evidence bucket; the root
account stays with the one-shot minio-init (issue 16). Read statically: no Docker here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_the_app_uses_its_own_minio_user_with_a_bucket_policy():
    services = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))["services"]
    app_env = services["app"]["environment"]
    assert "MINIO_APP_USER" in app_env["MINIO_ACCESS_KEY"]
    assert "MINIO_APP_PASSWORD" in app_env["MINIO_SECRET_KEY"]
    assert not any("MINIO_ROOT" in str(v) for v in app_env.values())

    script = services["minio-init"]["command"][0].replace("$$", "$")
    assert 'mc admin user add local "$MINIO_APP_USER" "$MINIO_APP_PASSWORD"' in script
    assert re.search(r"mc admin policy attach local inspect-app --user \"\$MINIO_APP_USER\"", script)
    policy = json.loads(re.search(r"<<EOF\n(.*?)\nEOF", script, re.S).group(1)
                        .replace("$MINIO_BUCKET", "evidence"))
    resources = {r for s in policy["Statement"] for r in s["Resource"]}
    assert resources == {"arn:aws:s3:::evidence", "arn:aws:s3:::evidence/*"}
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert not any(a.startswith("admin:") or a in {"s3:*", "s3:PutBucketPolicy", "s3:DeleteBucket"} for a in actions)

    example = (ROOT / "deploy" / "env.example").read_text(encoding="utf-8")
    assert re.search(r"^MINIO_APP_PASSWORD=$", example, re.M)  # required, deliberately empty
