"""Small widgets and models shared by several tabs."""
