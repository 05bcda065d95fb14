"""
The class histogram
===================

How long-tailed is the data?
"""

import classbalance as cb

print(cb.class_weights([0, 0, 1]))
