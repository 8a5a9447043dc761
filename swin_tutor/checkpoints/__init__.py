"""Reading and writing weights: file formats, key names of the official / timm / Hugging Face layouts,
loading, export.
"""
