"""The executable routes: applets stored as data objects, /applet/new and /applet-xxxx/{describe, get, run,
validateBatch} (applets), with the expansion of batch inputs for validateBatch (batch)."""
