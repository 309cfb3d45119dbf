"""An independent, conformant Capy Jobs API server (`server`) and single-defect mutants of it
(`mutants`), used to measure how many defects `capymock contract` catches."""
