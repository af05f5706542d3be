"""What every route family uses: the route table and its Call and Services (routing), who may call what
(access), the limits on bodies (limits), typed readers of request fields (checks), describe's field
selection (fields), signed URLs (signing) and malformed HTTP answered in the documented shape
(protocol_errors). Nothing here imports a route family."""
