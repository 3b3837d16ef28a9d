# Sourced by the live benchmarks: starts a moto server on a free loopback port (stopped when
# the script exits) and points the AWS environment at it. Sets `py` and `endpoint`.
py=.venv-test/bin/python
[ -x .venv-test/bin/moto_server ] || { echo "run bash scripts/test.sh first (installs moto)" >&2; exit 2; }
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv-test/bin/moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null' EXIT
until curl -s "http://127.0.0.1:$port/moto-api/" >/dev/null; do sleep 0.2; done
endpoint="http://127.0.0.1:$port"
export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
