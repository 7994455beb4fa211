"""Ad text to ESCO occupations and skills (POST /v1/extract, the Jobnet import)."""
