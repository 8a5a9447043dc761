"""Training the digits models on a CPU: data, the loop, the command line (``python -m
swin_tutor.train``), distributed set-up.
"""
