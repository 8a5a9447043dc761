"""Decoders for dense prediction on top of :class:`swin_tutor.core.backbone.SwinBackbone`: UPerNet, a small
FPN head, and the segmenter that joins a backbone and a head."""
