"""A journal table on a moto server (us-east-1), as the deploy templates make it: partition key
`id` (a string), on-demand.

usage: python journal_table.py ENDPOINT TABLE create
       python journal_table.py ENDPOINT TABLE dump          (every item as JSON, by id)
       python journal_table.py ENDPOINT TABLE put ID TEXT   (an item as anyone could write it)
"""
import json
import sys

import boto3

endpoint, table, verb = sys.argv[1], sys.argv[2], sys.argv[3]
db = boto3.client(
    "dynamodb",
    region_name="us-east-1",
    endpoint_url=endpoint,
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
)
if verb == "create":
    db.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
elif verb == "dump":
    items, start = [], None
    while True:
        page = db.scan(TableName=table, ConsistentRead=True, **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    out = {
        i["id"]["S"]: {
            "revision": int(i["revision"]["N"]),
            "status": i["status"]["S"],
            "entry": json.loads(i["entry"]["S"]),
        }
        for i in items
    }
    print(json.dumps(out, sort_keys=True))
elif verb == "put":
    db.put_item(
        TableName=table,
        Item={
            "id": {"S": sys.argv[4]},
            "revision": {"N": "1"},
            "status": {"S": "applied"},
            "entry": {"S": sys.argv[5]},
        },
    )
else:
    sys.exit(f"unknown verb {verb}")
