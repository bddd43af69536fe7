# Sourced by the end-to-end scripts: start_demo_endpoint FAKE_AWS WORKDIR
# starts the fake AWS endpoint serving the recorded demo account (demo/aws),
# waits until it listens, and exports the demo credentials and endpoint the
# way a user's shell would (the fake verifies every SigV4 signature).
# Sets fake_pid; the caller's EXIT trap stops it.
start_demo_endpoint() {
  local fake=$1 work=$2
  shift 2
  "$fake" --port 0 --responses demo/aws "$@" >"$work/fake.out" 2>"$work/fake.log" &
  fake_pid=$!
  for _ in $(seq 1 200); do grep -q "listening on" "$work/fake.out" 2>/dev/null && break; sleep 0.05; done
  endpoint=$(sed -n 's/^listening on //p' "$work/fake.out")
  [ -n "$endpoint" ] || { echo "FAIL: fake endpoint did not start"; cat "$work/fake.log"; exit 1; }
  export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
  export AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
  export AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL="$endpoint"
}
