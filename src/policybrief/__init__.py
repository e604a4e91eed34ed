"""policybrief: section files and cited sources in, checked PDF, HTML and DOCX out."""

__version__ = "0.1.0"
