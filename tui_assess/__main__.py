from tui_assess.entry import main

if __name__ == "__main__":
    main()
