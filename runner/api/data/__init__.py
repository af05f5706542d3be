"""The data-object routes: files and their signed part uploads and downloads (files), projects and
containers with their folders (containers), records (records) and the /system/ searches (system), with
what they share: finding an object where the caller may see it (objects), a describer per class
(describers) and the metadata routes of files and records (metadata). data_routes merges their tables."""
