"""A report bucket on a moto server (us-east-1).

usage: python s3.py ENDPOINT create BUCKET
       python s3.py ENDPOINT list BUCKET          (every key, one per line)
       python s3.py ENDPOINT get BUCKET KEY       (the object's body)
"""
import sys

import boto3

endpoint, verb, bucket = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")
if verb == "create":
    s3.create_bucket(Bucket=bucket)
elif verb == "list":
    for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        print(o["Key"])
elif verb == "get":
    obj = s3.get_object(Bucket=bucket, Key=sys.argv[4])
    assert obj.get("ServerSideEncryption") == "AES256", obj.get("ServerSideEncryption")
    sys.stdout.write(obj["Body"].read().decode())
else:
    sys.exit(f"unknown verb {verb}")
