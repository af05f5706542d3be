#!/bin/bash
# job_tokens: the identity token from /job-xxxx/getIdentityToken and the job's DX_SECURITY_CONTEXT token.

main() {
    identity=$(dx-jobutil-get-identity-token --aud test.audience)
    dx-jobutil-add-output identity "${identity}" --class=string
    auth=$(python3 -c 'import json, os; print(json.loads(os.environ["DX_SECURITY_CONTEXT"])["auth_token"])')
    dx-jobutil-add-output auth "${auth}" --class=string
}
