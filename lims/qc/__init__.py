"""Internal quality control (ISO/IEC 17025 §7.7): QC materials and lots, batches and their QC
items, acceptance by Westgard rules, the release hold, charts, analyst authorisation."""
