rule trend_figure:
    """The paper's diagram for one question: published numbers beside the simulated estimates."""
    input:
        toplines="reports/tables/toplines.csv",
        published="data/processed/published/toplines.csv",
    output:
        png=report(
            "reports/figures/{question}_trend.png",
            caption="../report/{question}_trend.rst",
            category="Figures",
        ),
        svg="reports/figures/{question}_trend.svg",
    log:
        "logs/trend_figure/{question}.log",
    conda:
        "../envs/pollwaves.yaml"
    params:
        notice=config["study"]["simulated_notice"],
    script:
        "../scripts/trend_figure.py"
