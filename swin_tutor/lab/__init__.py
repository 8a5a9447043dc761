"""Experiments on the mechanisms: small token stacks, synthetic tasks, seeded experiments, Grad-CAM and
attention read-outs.
"""
