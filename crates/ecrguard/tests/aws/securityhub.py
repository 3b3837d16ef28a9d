"""The findings in a moto server's Security Hub, as JSON: [{Id, GeneratorId, RecordState,
Compliance, Workflow, Resource}] of the given region.

usage: python securityhub.py ENDPOINT REGION
"""
import json
import sys

import boto3

endpoint, region = sys.argv[1], sys.argv[2]
hub = boto3.client("securityhub", region_name=region, endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")
found, token = [], None
while True:
    page = hub.get_findings(**({"NextToken": token} if token else {}))
    found += page["Findings"]
    token = page.get("NextToken")
    if not token:
        break
print(json.dumps([
    {
        "Id": f["Id"],
        "GeneratorId": f.get("GeneratorId"),
        "RecordState": f.get("RecordState"),
        "Compliance": (f.get("Compliance") or {}).get("Status"),
        "Resource": f["Resources"][0]["Id"],
        "ProductArn": f.get("ProductArn"),
    }
    for f in found
]))
