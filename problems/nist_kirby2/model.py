"""NIST StRD Kirby2: y = (b1 + b2*x + b3*x**2) / (1 + b4*x + b5*x**2) (the model as the NIST file states it, b1..b5 -> b[0]..)."""



def model(b, x):
    return (b[0] + b[1] * x + b[2] * x ** 2) / (1 + b[3] * x + b[4] * x ** 2)
