TREND_QUESTIONS = config["report"]["trend_questions"]


rule figures:
    """The report's figures: the paper's diagram of each trend question (published numbers
    above the weighted estimates), the poll averages, attitudes by war stance and the
    weighting diagnostics. One job draws them all: one Python start-up instead of one per
    figure (issue 15)."""
    input:
        toplines="reports/tables/toplines.csv",
        contrasts="reports/tables/contrasts.csv",
        published="data/processed/published/toplines.csv",
        published_intervals="reports/tables/published_intervals.csv",
        poll_average="reports/tables/poll_average.csv",
        attitudes="reports/tables/attitudes_by_stance.csv",
        weighting="reports/tables/weighting.csv",
        weighting_margins="reports/tables/weighting_margins.csv",
        claims=config["claims"],
        codebook=config["codebook"],
        mappings=expand(f"{config['waves_dir']}/{{wave}}.yaml", wave=WAVES),
    output:
        trend_png=[
            report(
                f"reports/figures/{question}_trend.png",
                caption=f"../report/trend_figure_{question}.rst",
                category="Trends",
            )
            for question in TREND_QUESTIONS
        ],
        trend_svg=expand("reports/figures/{question}_trend.svg", question=TREND_QUESTIONS),
        poll_average_png=report(
            "reports/figures/poll_average.png",
            caption="../report/poll_average.rst",
            category="Trends",
        ),
        poll_average_svg="reports/figures/poll_average.svg",
        attitudes_png=report(
            "reports/figures/attitudes_by_stance.png",
            caption="../report/attitudes_by_stance.rst",
            category="Subgroups",
        ),
        attitudes_svg="reports/figures/attitudes_by_stance.svg",
        weighting_png=report(
            "reports/figures/weighting.png",
            caption="../report/weighting.rst",
            category="Weighting",
        ),
        weighting_svg="reports/figures/weighting.svg",
    log:
        "logs/figures.log",
    benchmark:
        "logs/benchmarks/figures.tsv"
    priority: 3
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(1000),
        runtime=runtime(10),
        cpus_per_task=1,
    params:
        trend_questions=TREND_QUESTIONS,
        notice=config["study"]["simulated_notice"],
        level=config["estimation"]["level"],
        contrasts=config["estimation"].get("contrasts", {}),
        stacks=config["report"].get("stacks", {}),
        trend=config["trend"],
        gap_days=config["report"].get("gap_days", 180),
    script:
        "../scripts/figures.py"
