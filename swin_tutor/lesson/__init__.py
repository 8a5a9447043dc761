"""What the notebooks need around the model: set-up, images, ImageNet classes, and the Hugging Face
twin the checks compare with.
"""
