"""Exports for other software: explanations as DICOM objects a PACS viewer opens (``export.dicom``)."""
