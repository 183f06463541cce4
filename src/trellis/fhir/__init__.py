"""FHIR R4 API under /fhir/: SMART Backend Services tokens, read/search, the
QuestionnaireResponse write, Bulk Data export and the Bundle import (docs/fhir.md)."""
