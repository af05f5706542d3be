"""The job routes: /job/new, /job-xxxx/{describe, update, terminate, tags, properties, ...} and
/system/findExecutions (jobs), the job identity tokens of /job-xxxx/getIdentityToken and their keys
(identity), and the DNAnexus log websocket /job-xxxx/getLog/websocket that `dx watch` reads
(job_log_socket)."""
