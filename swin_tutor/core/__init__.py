"""The model itself, bottom layer: validation, windows, masks, position bias, patches, attention, MLP,
blocks, stages, model, sizes, cost.
"""
