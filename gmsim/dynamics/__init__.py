"""The monthly processes, one module each: demography, health, labour, benefits, employers."""
