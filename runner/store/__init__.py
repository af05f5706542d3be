"""The SQLite store: projects and workspaces, folders, data objects and their blobs, jobs and their transitions."""
