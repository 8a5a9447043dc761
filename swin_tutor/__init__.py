"""swin_tutor: the building blocks of the Swin Transformer (v1 and v2), small, typed and tested."""
